"""The Offer Library emulator: a faithful local DPS sandbox, served over HTTP or embedded."""
