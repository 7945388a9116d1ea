"""People, households, relationships and hardship categories: the household file (一户一档)."""
