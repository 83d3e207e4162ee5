//! A MariaDB admin URL (`mysql://user:password@host:port`, as [`crate::mariadb_admin_url`]
//! gives it) taken apart, and the `mariadb` client's arguments for it (which the
//! `db-create.sh` and `db-drop.sh` scripts take after `--`).

/// The parts of an admin URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AdminUrl {
    pub user: String,
    pub password: String,
    pub host: String,
    pub port: String,
}

impl AdminUrl {
    /// `None` unless `url` is `mysql://user:password@host:port`.
    pub fn parse(url: &str) -> Option<Self> {
        let rest = url.trim_start_matches("mysql://");
        let (credentials, host_port) = rest.split_once('@')?;
        let (user, password) = credentials.split_once(':')?;
        let (host, port) = host_port.split_once(':')?;
        Some(Self {
            user: user.to_owned(),
            password: password.to_owned(),
            host: host.to_owned(),
            port: port.to_owned(),
        })
    }

    /// `-h<host> -P<port> -u<user> -p<password>`.
    pub fn client_args(&self) -> Vec<String> {
        vec![
            format!("-h{}", self.host),
            format!("-P{}", self.port),
            format!("-u{}", self.user),
            format!("-p{}", self.password),
        ]
    }
}

/// The client arguments for admin URL `url`; panics if it is not one.
pub fn client_args(url: &str) -> Vec<String> {
    AdminUrl::parse(url)
        .unwrap_or_else(|| panic!("not a mysql://user:password@host:port URL"))
        .client_args()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_admin_url_gives_host_port_user_and_password() {
        assert_eq!(
            client_args("mysql://lpbx_test:pw@127.0.0.1:3307"),
            ["-h127.0.0.1", "-P3307", "-ulpbx_test", "-ppw"]
        );
        let url = AdminUrl::parse("mysql://u:p@db:3306").unwrap();
        assert_eq!((url.host.as_str(), url.port.as_str()), ("db", "3306"));
    }

    #[test]
    fn anything_else_is_refused() {
        assert_eq!(AdminUrl::parse("mysql://u@db:3306"), None);
        assert_eq!(AdminUrl::parse("mysql://u:p@db"), None);
    }
}
