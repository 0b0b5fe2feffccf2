"""Churn risk: signals read from each subscriber's story (signals), a model learned from the
desk's own outcomes (model) or documented rules while history is short (rules), the reasons
said to the reader (reasons), and the training and nightly scoring (services, tasks)."""
