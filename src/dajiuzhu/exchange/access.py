"""Access to the exchange's batches by id for the actions that change them (retraction,
re-submission of corrected quarantine rows), the scope in the query: city-level administrators
any batch; a city-level steward the batches of their own department; anyone else nothing."""

from __future__ import annotations

from dajiuzhu.core.access import AccessDenied, NotFound, is_admin, is_city_wide, is_staff_user
from dajiuzhu.core.models import User
from dajiuzhu.core.roles import Role
from dajiuzhu.exchange.models import Batch


def access_owned_batch_by_id(user: User, batch_id: int, *, for_update: bool = False) -> Batch:
    if is_admin(user):
        batches = Batch.objects.all()
    elif is_staff_user(user) and user.role == Role.DATA_STEWARD:
        batches = (
            Batch.objects.filter(department_id=user.department_id)
            if is_city_wide(user)
            else Batch.objects.none()
        )
    else:
        raise AccessDenied
    if for_update:
        batches = batches.select_for_update()
    batch = batches.filter(pk=batch_id).first()
    if batch is None:
        raise NotFound
    return batch
