"""``kelly web``: a local web console for the people in the room (the ``web`` extra).

One Starlette application served by uvicorn (:mod:`.server`), bound to 127.0.0.1 with a
random token by default (:mod:`.security`). Its parts: the live view pushed over a
WebSocket from the supervisor's status PUB (:mod:`.live`), control through the verbs of
:mod:`kelly_actors.verbs` (:mod:`.control`), the models with their cards (:mod:`.models`),
training runs of ``kelly train`` (:mod:`.training`), the recorded takes (:mod:`.takes`);
:mod:`.app` routes them. The page (``static/``) is plain HTML, CSS and JavaScript served
from the package: no build step, no CDN. ``docs/web.md`` describes it.
"""
