from django.apps import AppConfig


class PolicyConfig(AppConfig):
    name = "alertui.policy"
    label = "policy"
    verbose_name = "Silence policy"

    def ready(self):
        # A wrong POLICY_FILE stops the start, naming the rule and the key, like CLUSTERS_FILE.
        from alertui.policy.config import file_rules

        file_rules()
