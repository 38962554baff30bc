"""``manage.py seed_demo``: the demo store ``make run`` prints the login of (generation/demo.py).

Run before the workers start to seed the login, gallery and shots; ``--start-batch`` once they run, to start the
demo batch when the shots' faces are detected.
"""

from django.core.management.base import BaseCommand

from generation.demo import DEMO_EMAIL, DEMO_PASSWORD, demo_batch_start, demo_seed


class Command(BaseCommand):
    help = "Create the demo store, its owner login and (with ../shared/testdata) its faces and shots (idempotent)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--start-batch", action="store_true",
                            help="start the demo batch once the workers have detected the shots' faces")
        parser.add_argument("--wait", type=float, default=180, help="seconds to wait for face detection")

    def handle(self, *args, **options):
        if options["start_batch"]:
            batch = demo_batch_start(wait_seconds=options["wait"])
            self.stdout.write(f"demo batch started: {batch.pk}" if batch else "demo batch: nothing to start")
            return
        seed = demo_seed()
        self.stdout.write(f"demo store: {seed.store.name} ({seed.store.slug})")
        if seed.photos_found:
            self.stdout.write(f"demo gallery faces: {seed.faces.summary()}")
            self.stdout.write(f"demo product shots: {seed.shots.summary()}")
            for name, why in seed.faces.failed + seed.shots.failed:
                self.stderr.write(f"refused {name}: {why}")
        else:
            self.stdout.write("demo photos not found (../shared/testdata): the demo store starts empty")
        self.stdout.write(f"login: {DEMO_EMAIL} / {DEMO_PASSWORD}")
