"""The fault-injection matrix (docs/reliability.md), one unittest class per fault:
`test_faults.py Errors` runs one row. faultlib.py holds the machinery."""
import sys

from faultlib import FAULT_ORDER, FAULTS, FaultCase
from applylib import main


def _class_name(fault):
    return "".join(part.capitalize() for part in fault.split("_"))


for _name in FAULT_ORDER:
    _cls = type(_class_name(_name), (FaultCase,), {"fault": FAULTS[_name]})
    setattr(sys.modules[__name__], _cls.__name__, _cls)

if __name__ == "__main__":
    main()
