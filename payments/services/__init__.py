"""payments/ writes: refunds (one per cause, processed once), the gift-card ledger, bank-transfer
refunds and their Zengin batches. Views, admin, staff pages and tasks call these."""
