"""The Lua scripts, one per algorithm (a package only so that the ``.lua`` files ship with the wheel)."""
