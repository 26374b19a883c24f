"""The back office: the city's ticket store, served as Open311 GeoReport v2.

It owns the database. The assistant files and reads 311 requests through
/open311/v2/, staff change their status through /staff/api/, and status
changes go back to residents through Rasa's HTTP API.
"""


def __getattr__(name: str):
    # Lazy, so that the models and migrations import without loading the web stack.
    if name == "create_app":
        from backoffice.app import create_app

        return create_app
    raise AttributeError(name)
