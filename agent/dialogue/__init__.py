"""Dialogue state: what the conversation has established so far, kept in the checkpointed graph state.

A user answers the agent's question with "20", asks "why not YOLO?" after a recommendation, says "generate that"
or "compare the last two runs": each of these only makes sense against what the thread already holds. The
tracker (:mod:`agent.dialogue.tracker`) folds every turn into a :class:`~agent.dialogue.state.DialogueState`
before the model runs; the offline planner and a real LLM both read it (the LLM as a short summary in its
system prompt), so follow-ups mean the same thing whichever model is configured.
"""

from agent.dialogue.state import DialogueState, Pending, RankedChoice, Recommendation

__all__ = ["DialogueState", "Pending", "RankedChoice", "Recommendation"]
