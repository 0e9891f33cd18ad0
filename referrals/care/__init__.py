"""Care: patients, treatment plans, prescribed exercises, precautions, red flags, consent."""
