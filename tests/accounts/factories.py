import factory

from accounts.models import Membership, Role, Store, User
from accounts.services import api_token_create


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"user{n}@example.com")
    name = factory.Faker("name")
    password = factory.PostGenerationMethodCall("set_password", "correct-horse-battery")

    @factory.post_generation
    def _save(obj, create, extracted, **kwargs):
        if create:
            obj.save()


class StoreFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Store

    name = factory.Sequence(lambda n: f"Store {n}")
    slug = factory.Sequence(lambda n: f"store-{n}")


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    user = factory.SubFactory(UserFactory)
    store = factory.SubFactory(StoreFactory)
    role = Role.OWNER


def token_for(membership: Membership, scopes=("read", "write"), **kwargs) -> str:
    """Plaintext API token created by ``membership``'s user for its store."""
    return api_token_create(
        store=membership.store, created_by=membership.user, name="test", scopes=list(scopes), **kwargs
    ).plaintext
