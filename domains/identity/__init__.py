"""Identity and access: users and their identities, GOCDB-style roles over projects, NGIs,
sites and service groups, and the authorization that walks up the ownership tree."""
