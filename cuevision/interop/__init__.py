"""Import and export of other annotation tools' files (ELAN EAF first) as cuevision events."""
