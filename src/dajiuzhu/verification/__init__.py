"""The household economic-status check (家庭经济状况核对): inputs from the lake and the
registry, with the members' signed authorisations, evaluated by the policy engine."""
