"""No models of its own: users are django.contrib.auth users, roles are groups."""
