"""The capabilities the agent calls: review, code generation, recommendations, smoke runs, export.

Each tool is a plain function with a Pydantic input model and a Pydantic result model; the CLI, the HTTP
endpoints and the agent all call the same function.
"""
