"""The referral: its registry of actions, life cycle, snapshot of the guidelines and send checks."""
