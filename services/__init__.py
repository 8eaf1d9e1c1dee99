"""Business logic of the portal. Nothing in here imports NiceGUI, so every rule is testable without a UI."""
