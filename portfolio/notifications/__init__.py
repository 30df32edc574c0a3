"""Telling people what needs them: notifications made in the transaction of the change they tell
of, shown in the app (a bell and an inbox) and mailed at once or in a daily digest."""
