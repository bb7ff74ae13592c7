"""Evaluate Rollgate flags through the real OpenFeature Python SDK and its OFREP provider.

Usage: evaluate.py BASE_URL TOKEN UNITS FLAG [FLAG ...]

Environment: none. For each unit `u0` .. `u{UNITS-1}` (even units in DE, odd units in FR) and each
flag, prints one JSON line: {"unit", "country", "flag", "value", "variant", "reason", "error"}.
Exits 1 if the SDK reports an error for any evaluation (the line says which).
"""

import json
import sys

from openfeature import api
from openfeature.contrib.provider.ofrep import OFREPProvider
from openfeature.evaluation_context import EvaluationContext

# The value the SDK returns when Rollgate defers to the code default (the unit is in no
# variant of an experiment).
CODE_DEFAULT = "<code default>"


def main() -> int:
    base_url, token, units, *flags = sys.argv[1:]
    provider = OFREPProvider(
        base_url,
        headers_factory=lambda: {"Authorization": f"Bearer {token}"},
        timeout=10.0,
    )
    api.set_provider(provider)
    client = api.get_client("rollgate-ofrep-test")
    failed = False
    for i in range(int(units)):
        unit = f"u{i}"
        country = "DE" if i % 2 == 0 else "FR"
        context = EvaluationContext(targeting_key=unit, attributes={"country": country})
        for flag in flags:
            details = client.get_string_details(flag, CODE_DEFAULT, context)
            error = details.error_code.value if details.error_code else None
            failed = failed or error is not None
            print(
                json.dumps(
                    {
                        "unit": unit,
                        "country": country,
                        "flag": flag,
                        "value": details.value,
                        "variant": details.variant,
                        "reason": getattr(details.reason, "value", details.reason),
                        "error": error,
                        "error_message": details.error_message,
                    }
                )
            )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
