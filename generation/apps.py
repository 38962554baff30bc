from django.apps import AppConfig


class GenerationConfig(AppConfig):
    name = "generation"

    def ready(self) -> None:
        from generation import checks  # noqa: F401 - registers the deployment checks
        from generation.events import job_event_handlers_register

        job_event_handlers_register()
