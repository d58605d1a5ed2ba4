"""Business rules of FIR graph: visibility, validation, latest and upgrade paths, transactions, audit."""
