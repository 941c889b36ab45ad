"""The three roles of SPEC.md ("Access"), as groups with their permissions.

Administrator: everything, settings and users. Bookkeeper: clients, services, invoices,
payments and ledger; no settings or users. Viewer: read only.
"""

ADMINISTRATOR = "Administrator"
BOOKKEEPER = "Bookkeeper"
VIEWER = "Viewer"
ROLES = {"administrator": ADMINISTRATOR, "bookkeeper": BOOKKEEPER, "viewer": VIEWER}

BOOKS_APPS = ("billing", "ledger", "links", "outbox", "quotes", "rates", "recurring")
ADMIN_APPS = (*BOOKS_APPS, "settings_app", "accounts", "auth", "admin", "api", "audit", "portal")


def permissions_for(group_name, Permission):
    """The permission queryset a role grants; works on real and on migration models."""
    if group_name == ADMINISTRATOR:
        return Permission.objects.filter(content_type__app_label__in=ADMIN_APPS)
    if group_name == BOOKKEEPER:
        return Permission.objects.filter(content_type__app_label__in=BOOKS_APPS)
    if group_name == VIEWER:
        return Permission.objects.filter(
            content_type__app_label__in=BOOKS_APPS, codename__startswith="view_"
        )
    raise ValueError(group_name)


def sync_roles(Group, Permission) -> None:
    """Create the role groups and give each exactly its permissions. Idempotent."""
    for group_name in ROLES.values():
        group, _ = Group.objects.get_or_create(name=group_name)
        group.permissions.set(permissions_for(group_name, Permission))


def role_of(user) -> str | None:
    """The user's role key ("administrator", ...), or None."""
    if user.is_superuser:
        return "administrator"
    names = {group.name for group in user.groups.all()}  # uses a prefetch when there is one
    for key, group_name in ROLES.items():
        if group_name in names:
            return key
    return None
