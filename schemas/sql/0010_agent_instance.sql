-- 0010: which agent process registered each node last (its instance, from its registration).
-- An agent registering again as the same instance remembers every order it was given, so a
-- RUNNING job it does not list never received its launch order: the order is sent again. A new
-- instance (the agent restarted) has lost what it ran. Empty: not known (older agents).
ALTER TABLE nodes ADD COLUMN agent_instance TEXT NOT NULL DEFAULT '';
