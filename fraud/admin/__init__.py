"""Django admin for fraud/: reports with their timeline and checklist, the review queue,
risk rules and weights, address reputation, login events, account actions.

Every button and action calls a service (fraud.services.*); nothing here writes a model
directly except the rule weights, which are plain data.
"""

from fraud.admin import records, reports
from fraud.admin.common import order_risk_panel

__all__ = ["order_risk_panel", "records", "reports"]
