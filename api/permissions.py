"""Who may call what: each view names the Django permission of each of its actions, the
permissions the roles of SPEC.md ("Access") hold. The operations check them again."""

from rest_framework import permissions


class RolePermission(permissions.BasePermission):
    """Reads need ``view.read_permissions``; a write needs ``view.write_permissions`` of
    its action (a viewset action name, or the HTTP method in lower case). A write not
    listed there is refused."""

    def has_permission(self, request, view) -> bool:
        user = request.user
        if not (user and user.is_authenticated and user.is_active):
            return False
        if request.method in permissions.SAFE_METHODS:
            needed = getattr(view, "read_permissions", None)
        else:
            action = getattr(view, "action", None) or request.method.lower()
            if not hasattr(view, action):
                return True  # no such handler: the view answers 405
            needed = getattr(view, "write_permissions", {}).get(action)
        if needed is None:
            return False
        return user.has_perms(needed)
