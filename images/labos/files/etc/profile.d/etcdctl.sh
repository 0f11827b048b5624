# labos: etcdctl talks the v2 API, like CoreOS's etcdctl for etcd2
export ETCDCTL_API=2
