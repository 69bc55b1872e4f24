"""The web pages' server-rendered Jinja2 templates and static files, shipped in the package
(nothing from a CDN: the machine may be offline). Their routes are cuevision.api.routes.pages."""
