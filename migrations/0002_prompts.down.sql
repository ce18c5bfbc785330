DROP TABLE prompt_history;
DROP FUNCTION prompt_history_append_only();
DROP TABLE account_prompts;
DROP TABLE global_prompts;
