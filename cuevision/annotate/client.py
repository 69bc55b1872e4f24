"""The few Label Studio calls cuevision makes, through label-studio-sdk, as plain dicts.

Every failure to reach the server becomes a :class:`LabelStudioError` that says how to start it,
so a push while Label Studio is down fails cleanly before anything is written.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import httpx

from cuevision.annotate.server import Connection, LabelStudioError

T = TypeVar("T")
WEBHOOK_ACTIONS = ("ANNOTATION_CREATED", "ANNOTATION_UPDATED", "ANNOTATIONS_DELETED")


def _plain(model: Any) -> dict[str, Any]:
    return (
        dict(model.model_dump(mode="json", warnings=False))
        if hasattr(model, "model_dump")
        else dict(model)
    )


class Studio:
    """A logged-in Label Studio: projects, tasks, predictions, annotations, webhooks."""

    def __init__(self, conn: Connection, timeout_s: float = 60.0) -> None:
        from label_studio_sdk import LabelStudio  # heavy: imported only when used

        self.conn = conn
        self._sdk = LabelStudio(base_url=conn.url, api_key=conn.token, timeout=timeout_s)

    def _call(self, what: str, call: Callable[[], T]) -> T:
        from label_studio_sdk.core.api_error import ApiError

        try:
            return call()
        except (httpx.TransportError, ConnectionError) as error:
            raise LabelStudioError(
                f"Label Studio is not reachable at {self.conn.url} ({what}: {error}); start it "
                "with `cuevision labelstudio up` and try again (nothing was changed)"
            ) from None
        except ApiError as error:
            if error.status_code in (401, 403):
                raise LabelStudioError(
                    f"Label Studio at {self.conn.url} refused our token ({what}); check "
                    "`cuevision labelstudio status` or the --labelstudio-data folder"
                ) from None
            raise LabelStudioError(
                f"Label Studio at {self.conn.url} answered {error.status_code} to {what}: "
                f"{str(error.body)[:400]}"
            ) from None

    def check(self) -> None:
        """Fail now, with the fix, if the server is down or our token is wrong."""
        self._call("who am I", self._sdk.users.whoami)

    def ensure_project(self, fields: dict[str, Any]) -> int:
        """The project titled ``fields["title"]``, created or brought up to date as needed.

        ``fields`` is :func:`cuevision.annotate.config.project_fields`: title, labeling config
        and the coding manual as the instructions annotators see.
        """
        title = fields["title"]
        found = [
            p
            for p in self._call("list projects", lambda: list(self._sdk.projects.list(title=title)))
            if p.title == title
        ]
        if not found:
            made = self._call(
                "create project",
                lambda: self._sdk.projects.create(
                    **fields, maximum_annotations=1, show_collab_predictions=True
                ),
            )
            return int(made.id)
        project_id = int(found[0].id)
        current = _plain(self._call("get project", lambda: self._sdk.projects.get(project_id)))
        changed = {k: v for k, v in fields.items() if current.get(k) != v}
        if changed:
            self._call("update project", lambda: self._sdk.projects.update(project_id, **changed))
        return project_id

    def ensure_webhook(self, project_id: int, url: str, headers: dict[str, str]) -> None:
        """One webhook of this project to ``url`` sending our secret header."""
        hooks = self._call(
            "list webhooks", lambda: self._sdk.webhooks.list(project=str(project_id))
        )
        hook = next((h for h in hooks if h.url == url and h.project == project_id), None)
        if hook is not None:
            hook_id = int(hook.id)
            if (
                hook.headers != headers
                or not hook.is_active
                or set(hook.actions or ()) != set(WEBHOOK_ACTIONS)
            ):
                self._call(
                    "update webhook",
                    lambda: self._sdk.webhooks.update(
                        hook_id,
                        url=url,
                        headers=headers,
                        is_active=True,
                        send_payload=True,
                        send_for_all_actions=False,
                        actions=list(WEBHOOK_ACTIONS),
                    ),
                )
            return
        self._call(
            "create webhook",
            lambda: self._sdk.webhooks.create(
                url=url,
                project=project_id,
                headers=headers,
                send_payload=True,
                send_for_all_actions=False,
                actions=list(WEBHOOK_ACTIONS),
                is_active=True,
            ),
        )

    def ensure_ml_backend(self, project_id: int, url: str, user: str, password: str) -> bool:
        """Our ``/ml`` as the project's ML backend, with its basic-auth credential.

        Label Studio checks a backend's health when it is added, so while our API is down this
        answers False and the next push connects it; the push itself does not depend on it.
        """
        from label_studio_sdk.core.api_error import ApiError

        found = self._call("list ML backends", lambda: self._sdk.ml.list(project=project_id))
        for backend in found:
            if (
                backend.url == url
                and backend.auth_method == "BASIC_AUTH"
                and backend.basic_auth_user == user
            ):
                return True
        stale = next((int(b.id) for b in found if b.url == url and b.id is not None), None)

        def connect() -> bool:
            try:
                if stale is not None:
                    self._sdk.ml.update(
                        stale,
                        auth_method="BASIC_AUTH",
                        basic_auth_user=user,
                        basic_auth_pass=password,
                    )
                else:
                    self._sdk.ml.create(
                        url=url,
                        project=project_id,
                        title="cuevision",
                        auth_method="BASIC_AUTH",
                        basic_auth_user=user,
                        basic_auth_pass=password,
                    )
            except ApiError as error:
                if error.status_code == 400:  # it could not reach our /ml: the next push will
                    return False
                raise
            return True

        return self._call("connect the ML backend", connect)

    def delete_task(self, task_id: int) -> None:
        """Remove a task with its annotations and predictions; a task already gone is fine."""
        from label_studio_sdk.core.api_error import ApiError

        try:
            self._sdk.tasks.delete(str(task_id))
        except ApiError as error:
            if error.status_code != 404:
                raise LabelStudioError(
                    f"Label Studio at {self.conn.url} answered {error.status_code} to delete "
                    f"task {task_id}"
                ) from None
        except (httpx.TransportError, ConnectionError):
            self._call("delete task", self.check)
            raise

    def task(self, task_id: int) -> dict[str, Any] | None:
        """A task with its annotations and predictions, or None if it is gone."""
        from label_studio_sdk.core.api_error import ApiError

        try:
            return _plain(self._sdk.tasks.get(str(task_id)))
        except ApiError as error:
            if error.status_code == 404:
                return None
            raise
        except (httpx.TransportError, ConnectionError):
            self._call("get task", self.check)  # raises the clear error
            raise

    def find_task(self, project_id: int, session_id: str) -> dict[str, Any] | None:
        """The project's task for this session (tasks carry ``data.session``)."""
        tasks = self._call(
            "list tasks", lambda: list(self._sdk.tasks.list(project=project_id, fields="task_only"))
        )
        for task in tasks:
            if (task.data or {}).get("session") == session_id:
                return _plain(task)
        return None

    def create_task(self, project_id: int, data: dict[str, Any]) -> int:
        made = self._call(
            "create task", lambda: self._sdk.tasks.create(project=project_id, data=data)
        )
        return int(made.id)

    def update_task(self, task_id: int, data: dict[str, Any]) -> None:
        self._call("update task", lambda: self._sdk.tasks.update(str(task_id), data=data))

    def predictions(self, task_id: int) -> list[dict[str, Any]]:
        return [
            _plain(p)
            for p in self._call(
                "list predictions", lambda: self._sdk.predictions.list(task=task_id)
            )
        ]

    def create_prediction(self, task_id: int, prediction: dict[str, Any]) -> int:
        made = self._call(
            "create prediction",
            lambda: self._sdk.predictions.create(
                task=task_id,
                model_version=prediction["model_version"],
                score=prediction["score"],
                result=prediction["result"],
            ),
        )
        return int(made.id)

    def delete_prediction(self, prediction_id: int) -> None:
        self._call("delete prediction", lambda: self._sdk.predictions.delete(prediction_id))
