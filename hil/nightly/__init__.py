"""``hil nightly``: the checklist on every bench of a lab at once, through pabot.

One pabot worker per bench runs the whole checklist in order; PabotLib's value sets hand
each worker its bench so no two drive the same one. Modules: ``benches`` (the benches
folder, preflight), ``pabot_command`` (the files and command line pabot gets), ``status``
(where each bench is, from the small files its run writes), ``progress`` (the live
console), ``summary`` (the nightly report page), ``run`` (the command itself).
"""
