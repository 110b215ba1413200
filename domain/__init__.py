"""salesops domain: records, state machines, rules and use cases."""
