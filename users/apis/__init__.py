"""REST endpoints for people (routed in cityvibes/api_urls.py), one module per operation group:

- ``auth``: start as a guest, register, log in, log out, me;
- ``deck``: the next photos to swipe;
- ``swipes``: swipe and list swipes, undo, reset;
- ``recommendations``: my ranked cities;
- ``cities``: cities that look alike;
- ``common``: the pieces several of them share.

Each view validates its input with a serializer, calls one service or selector (the ranking
reads call users.services.ranker_state_catch_up first: a read never writes), and returns an
output serializer. Serializers that only one view uses are nested in it."""
