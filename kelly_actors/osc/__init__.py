"""The OSC actor: every control verb over UDP OSC, and telemetry to subscribed hosts.

``actor`` (the loop), ``config`` (its options), ``wire`` (the strict OSC decoder; python-osc
builds what leaves), ``commands`` (the address space → control requests), ``control``
(the DEALER to the supervisor), ``telemetry`` (what subscribers receive), ``peers``
(allow-list, refusal counts, subscribers) and ``udp`` (the socket). See ``docs/osc.md``.
"""
