"""Writes to users and their roles (SPEC: Access)."""

from __future__ import annotations

from collections.abc import Sequence

from django.contrib.auth import get_user_model, password_validation
from django.contrib.auth.models import AbstractUser, Group
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from audit import recording as audit
from otb.operations import DomainError, InvalidInput, ensure_permitted, operation
from otb.text import validate_model

from .models import SignInThrottle
from .roles import ROLES
from .throttle import account_key


class UserExists(DomainError):
    code = "user_exists"


@operation
def create_user(
    *,
    username: str,
    role: str,
    password: str,
    email: str = "",
    acting_user: AbstractUser | None = None,
    reset: bool = False,
) -> AbstractUser:
    """Create an active staff user in exactly the group of ``role`` (a key of ROLES).

    With ``reset``, an existing user gets the new password and role instead (and is made
    active again); without it, an existing username is refused. The password must pass
    Django's password validators.
    """
    ensure_permitted(acting_user, "auth.add_user", _("add users"))
    if reset:
        ensure_permitted(acting_user, "auth.change_user", _("change users"))
    User = get_user_model()
    username = (username or "").strip()
    if role not in ROLES:
        raise InvalidInput.single(
            "role",
            _("Role: “%(role)s” is not a role; choose one of %(roles)s.")
            % {"role": role, "roles": ", ".join(ROLES)},
        )
    email = (email or "").strip()
    if email:
        try:
            validate_email(email)
        except ValidationError:
            raise InvalidInput.single(
                "email", _("E-mail: “%(email)s” is not an e-mail address.") % {"email": email}
            ) from None

    user = User.objects.select_for_update().filter(username=username).first()
    if user is not None and not reset:
        raise UserExists(
            _("User %(username)s already exists.") % {"username": username}, field="username"
        )
    before = audit.snapshot(user) if user is not None else None
    if user is None:
        user = User(username=username)
    if email:
        user.email = email
    user.is_active = True
    user.is_staff = True
    if role != "administrator":
        # A superuser holds every permission whatever its groups: the role would be a lie.
        user.is_superuser = False

    validate_model(user, exclude=["password"])
    if not password:
        raise InvalidInput.single("password", _("Password: this field is required."))
    try:
        password_validation.validate_password(password, user=user)
    except ValidationError as exc:
        raise InvalidInput({"password": [str(message) for message in exc.messages]}) from None
    user.set_password(password)

    try:
        # A savepoint: another process may create the same username between our read and
        # this insert; the unique index then refuses it and the transaction stays usable.
        with transaction.atomic():
            user.save()
    except IntegrityError:
        raise UserExists(
            _("User %(username)s already exists.") % {"username": username}, field="username"
        ) from None

    other_roles = Group.objects.filter(name__in=ROLES.values()).exclude(name=ROLES[role])
    user.groups.remove(*other_roles)
    user.groups.add(Group.objects.get(name=ROLES[role]))
    if before is None:
        audit.created(user)
    else:
        audit.changed(user, before)
    return user


@operation
def lift_locks(*, keys: Sequence[str], acting_user: AbstractUser | None = None) -> int:
    """Forget the failures of these throttle keys (the back office's "lift the lock"): how
    many were locked or counting."""
    ensure_permitted(acting_user, "accounts.delete_signinthrottle", _("lift sign-in locks"))
    rows = list(SignInThrottle.objects.select_for_update().filter(key__in=list(keys)))
    for row in rows:
        audit.deleted(row)
    SignInThrottle.objects.filter(pk__in=[row.pk for row in rows]).delete()
    return len(rows)


@operation
def unlock_user(*, username: str, acting_user: AbstractUser | None = None) -> int:
    """Lift the lock of an account (manage.py unlock_user): its failures are forgotten. The
    addresses it was tried from stay as they are; ``lift_locks`` lifts those."""
    User = get_user_model()
    if not User.objects.filter(username=username).exists():
        raise InvalidInput.single(
            "username", _("User: there is no user %(name)s.") % {"name": username}
        )
    return lift_locks(keys=[account_key(username)], acting_user=acting_user)
