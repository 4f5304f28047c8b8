"""logbuild: a static site generator for daily learning logs whose snippets run during the build."""

__version__ = "0.1.0"
