"""Every public method of SwitchingDPForce is documented in the C++ header, which is
where Python's help() takes its docstrings from (SWIG -doxygen)."""
import os
import re

from helpers import ROOT

HEADER = os.path.join(ROOT, "openmmapi", "include", "SwitchingDPForce.h")
DECLARATION = re.compile(r"^\s*(?:static\s+|explicit\s+|virtual\s+)*(?:[\w:<>,]+[\s&*]+)*(\w+)\s*\(")


def public_declarations(text):
    """(name, documented) for each function declared in the class's public section."""
    body = text[text.index("class SwitchingDPForce : public OpenMM::Force"):]
    public = body[body.index("public:"):body.index("protected:")]
    found, previous, depth = [], "", 0
    for line in public.splitlines():
        stripped = line.strip()
        if depth == 0 and not stripped.startswith(("typedef", "static constexpr", "//", "*", "/**")):
            match = DECLARATION.match(line)
            if match:
                found.append((match.group(1), previous.endswith("*/")))
        depth += line.count("(") - line.count(")")
        if stripped:
            previous = stripped
    return found


def test_every_public_method_is_documented():
    declarations = public_declarations(open(HEADER).read())
    assert len(declarations) >= 50   # the parser sees the methods
    undocumented = [name for name, documented in declarations if not documented]
    assert undocumented == []


def test_the_parser_catches_an_undocumented_method():
    text = ("class SwitchingDPForce : public OpenMM::Force {\npublic:\n    /** Documented. */\n    void a(int x);\n"
            "    int b() const { return 1; }\nprotected:\n};\n")
    assert public_declarations(text) == [("a", True), ("b", False)]
