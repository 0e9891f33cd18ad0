"""Timers: what Handoff does on its own when a referral stalls (issue 16). Requested referrals unanswered:
a reminder to the trainer, the clinic told with other trainers who could take it, then the referral
cancelled for no response; each in the organizations' time zones, never at night for the person told."""
