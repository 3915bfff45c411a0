from flask import render_template

from ..pipeline import require
from . import bp


@bp.get("/members")
@require("members.manage")
def members():
    return render_template("admin/placeholder.html")


@bp.get("/roles")
@require("roles.manage")
def roles():
    return render_template("admin/placeholder.html")


@bp.get("/plugins")
@require("plugins.manage")
def plugins():
    return render_template("admin/placeholder.html")


@bp.get("/audit")
@require("audit.read")
def audit():
    return render_template("admin/placeholder.html")


@bp.get("/tokens")
@require("tokens.manage")
def tokens():
    return render_template("admin/placeholder.html")
