"""The /api/v1 surface: the flask-smorest Api, its blueprints and the authentication gate."""

import http

import flask_smorest
from flask import Flask, send_from_directory
from flask_smorest import Api
from flask_smorest.utils import prepare_response

from backend.jsonbody import StrictParser
from schemas.common import ProblemSchema


class ProblemApi(Api):
    """The Api whose OpenAPI document says what errors really are: RFC 9457 problem+json."""

    ERROR_SCHEMA = ProblemSchema
    PROBLEM_CONTENT_TYPE = "application/problem+json"

    def _register_responses(self):
        for status in http.HTTPStatus:
            response = {"description": status.phrase}
            content_type = self.DEFAULT_RESPONSE_CONTENT_TYPE
            if status >= 400:
                response["schema"], content_type = self.ERROR_SCHEMA, self.PROBLEM_CONTENT_TYPE
            prepare_response(response, self.spec, content_type)
            self.spec.components.response(status.name, response, lazy=True)
        response = {"description": "Default error response", "schema": self.ERROR_SCHEMA}
        prepare_response(response, self.spec, self.PROBLEM_CONTENT_TYPE)
        self.spec.components.response("DEFAULT_ERROR", response, lazy=True)


api = ProblemApi()


class Blueprint(flask_smorest.Blueprint):
    """flask-smorest's Blueprint reading JSON bodies with the strict parser (backend/jsonbody.py).
    Every API blueprint is one: the parser is bound when a view's arguments are declared."""

    ARGUMENTS_PARSER = StrictParser()


def init_app(app: Flask) -> None:
    import swagger_ui_bundle

    app.config["OPENAPI_SWAGGER_UI_URL"] = "/api/v1/docs/assets/"
    api.init_app(app)

    from backend.auth.access import install_gate, public
    from backend.auth.views import blp as auth_blp
    from backend.elders.views import blp as elders_blp
    from backend.followups.views import blp as followups_blp
    from backend.followups.views import notifications_blp
    from backend.media.views import blp as media_blp
    from backend.plans.views import blp as plans_blp
    from backend.plans.views import types_blp as service_types_blp
    from backend.plates.views import blp as plates_blp
    from backend.providers.views import blp as providers_blp
    from backend.rectifications.views import blp as rectifications_blp
    from backend.regions.views import blp as regions_blp
    from backend.register.views import blp as status_reports_blp
    from backend.reports.views import blp as reports_blp
    from backend.reviews.views import blp as reviews_blp
    from backend.reviews.views import callbacks_blp
    from backend.settlement.views import blp as settlement_blp
    from backend.tasks.views import blp as tasks_blp
    from backend.users.views import blp as users_blp
    from backend.visitlog.views import blp as visitlog_blp
    from backend.visits.views import blp as sync_blp

    for blueprint in (auth_blp, regions_blp, providers_blp, users_blp, elders_blp, plans_blp, tasks_blp,
                      plates_blp, sync_blp, service_types_blp, followups_blp, notifications_blp, reviews_blp,
                      callbacks_blp, reports_blp, visitlog_blp, media_blp,
                      status_reports_blp, rectifications_blp, settlement_blp):
        api.register_blueprint(blueprint)

    @public
    def swagger_assets(filename):
        return send_from_directory(swagger_ui_bundle.swagger_ui_path, filename)

    app.add_url_rule("/api/v1/docs/assets/<path:filename>", "swagger_assets", swagger_assets)
    install_gate(app)
