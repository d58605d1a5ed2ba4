"""File formats at the edge: CPL workbooks read and the FIR spreadsheet written, as xlsx or csv."""
