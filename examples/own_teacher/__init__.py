"""A third-party architecture brought as a KDIGA teacher."""
