"""The supervisor and what it is made of.

- :mod:`.supervisor`: the loop — opens the run, starts actors in order, shuts down.
- :mod:`.sockets`: its ZeroMQ ends (control ROUTER, actor ROUTER, status PUB, remote
  CURVE twins) and the signal self-pipe.
- :mod:`.routing`: client requests in (served by the verbs it is given), calls to actors
  out, replies back, standbys (``twin_of``) getting the same call.
- :mod:`.inbox`: what actors report (ready, heartbeat, state, health, event, replace).
- :mod:`.lifecycle`: starts, exits, commanded stops and deadlines of the children.
- :mod:`.policy`: what an exit leads to — restart kind, :mod:`.intensity`,
  :mod:`.strategy`, :mod:`.backoff`.
- :mod:`.spawner`: one actor process from the forkserver.
- :mod:`.child`, :mod:`.status`, :mod:`.events`, :mod:`.rundir`, :mod:`.training_runs`:
  the records it keeps and publishes; :mod:`.refusal`: the error a verb refuses with;
  :mod:`.client`: how a console talks to it.

It knows no verb by name: :mod:`kelly_actors.verbs` holds them, and ``kelly run`` hands
the supervisor their table.
"""
