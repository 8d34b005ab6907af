# The community.general.chroot connection, for a booted container entered
# through tests/lib/nsenter-chroot (its chroot_exe), which runs the commands
# as $DBOPS_CT_USER when set. The chroot plugin takes its user to be root,
# always: Ansible would then skip become (root to root) and never make its
# temporary files readable for a become_user. This one says who it is.
from __future__ import absolute_import, division, print_function

import os

from ansible_collections.community.general.plugins.connection import chroot as _chroot

__metaclass__ = type

DOCUMENTATION = _chroot.DOCUMENTATION.replace("name: chroot", "name: nsenter_chroot", 1)


class Connection(_chroot.Connection):
    transport = "nsenter_chroot"
    default_user = os.environ.get("DBOPS_CT_USER") or "root"
