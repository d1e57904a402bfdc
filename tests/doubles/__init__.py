"""Test doubles: stand-ins for what the tests cannot have here (Windows hosts, ansible.windows modules, ssh).

Each modelled behaviour names its source; where a double cannot know, it refuses."""
