"""The GraphQL types of FIR graph (strawberry, Apollo Federation 2) and the Schema object."""
