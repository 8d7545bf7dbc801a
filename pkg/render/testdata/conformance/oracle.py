# The reference: Python's Jinja2 (Debian's python3-jinja2) renders every case with the same
# context and the same environment settings as a pack: trim_blocks and lstrip_blocks off, the
# final newline kept, loop controls and `do` on, and semi-strict undefined values (printing or
# iterating one is an error, a condition on one is false).
# Input on stdin: {"cases": [{"name", "src", "ctx"}], "partials": {name: src}}.
# Output on stdout: {name: {"out": text} | {"err": message}}.
import json
import sys

import jinja2


class SemiStrictUndefined(jinja2.StrictUndefined):
    def __bool__(self):
        return False


def main():
    req = json.load(sys.stdin)
    env = jinja2.Environment(
        loader=jinja2.DictLoader(req.get("partials", {})),
        undefined=SemiStrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=False,
        lstrip_blocks=False,
        extensions=["jinja2.ext.loopcontrols", "jinja2.ext.do"],
    )
    out = {}
    for case in req["cases"]:
        try:
            out[case["name"]] = {"out": env.from_string(case["src"]).render(case["ctx"])}
        except Exception as e:  # every failure is an expected outcome of some case
            out[case["name"]] = {"err": "%s: %s" % (type(e).__name__, e)}
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main()
