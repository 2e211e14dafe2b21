"""Publish and operate: desired resources, what exists, the difference, and applying it.

`resources` computes what a workflow needs (state machine, roles, topic, rules,
schedules, the alert formatter); each kind of resource has a driver in
`drivers/` that reads, creates, updates and deletes it; `changes` compares
desired and actual, and `apply` carries the changes out. `plan` is the same
path without the apply, so a second `create` with the same spec makes no
mutating call, and what the spec no longer asks for is removed.
"""
