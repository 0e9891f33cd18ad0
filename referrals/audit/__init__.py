"""Who read which patient's data: the access log and the patient's data trail."""
