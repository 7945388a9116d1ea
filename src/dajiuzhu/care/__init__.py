"""Special-hardship care: devices, the MQTT/HTTPS intake, alarm rules, the 24-hour console,
care plans (一户一策) and visits (shared/policy/CARE.md)."""
