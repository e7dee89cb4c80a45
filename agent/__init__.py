"""ML Engineer Agent: the LangGraph agent, its LLM providers, the HTTP service and the CLI."""

__version__ = "0.1.0"
