"""Publishing a file written under a temporary name."""

import os


def publish(temp, path):
    """Renames the complete temporary file `temp` over `path` (atomic on one file system), with an
    ordinary new file's permissions (0666 less the umask) instead of a temporary file's 0600."""
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(temp, 0o666 & ~umask)
    os.replace(temp, path)
